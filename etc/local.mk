# etc/: example manifests and env files (issue 10).
