"""The `qabot` command line: click commands, the terminal chat and its rendering, doctor."""
