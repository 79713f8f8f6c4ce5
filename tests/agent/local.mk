# tests/agent: added with its code.
