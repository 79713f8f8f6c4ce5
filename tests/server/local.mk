# tests/server: added with its code.
