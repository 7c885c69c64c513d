"""The demo's own network on loopback: its invented sites (HTTP) and the DNS that names them."""
