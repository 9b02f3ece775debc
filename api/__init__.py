"""The outer layer of Decisionary: the HTTP API and the `decisionary` command line."""
