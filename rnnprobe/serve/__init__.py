"""The warm server and its client."""
