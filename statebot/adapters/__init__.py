"""The broker edge: each venue behind the adapter protocol; the core never imports a venue."""
