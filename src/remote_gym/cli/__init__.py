"""The remote-gym command line: argument parsing and printing only."""
