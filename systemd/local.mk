# systemd/: unit templates (issue 10).
