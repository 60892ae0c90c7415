"""The static file rules of every mode's app in test_static_files.py."""

import os


def rules(root, follow):
    """``/`` is the folder's page.html by an exact rule; ``/static`` is the
    folder, following symbolic links out of it only when ``follow``."""
    folder = {'filename': root, 'follow_symlinks': True} if follow else root
    return {'/': os.path.join(root, 'page.html'), '/static': folder}
