"""picojoule RTL (Amaranth). Each unit defines its params, layouts and component here."""
