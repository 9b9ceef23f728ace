"""Sandbox state in one SQLite file, shared by the threads and worker processes of a machine."""
