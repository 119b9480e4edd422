"""`make bench`: how fast the engine is where users feel it (issue 5). Not part of `make test`."""
