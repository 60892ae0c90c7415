"""The sans-I/O Engine.IO core: no sockets, threads, clocks or sleeps."""
