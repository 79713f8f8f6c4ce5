# tests/api: added with its code.
