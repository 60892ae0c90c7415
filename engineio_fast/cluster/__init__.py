"""Scale-out: more than one process serving one Engine.IO service.

``node``: which process owns a session (every sid starts with the id of the
process that minted it).
"""
