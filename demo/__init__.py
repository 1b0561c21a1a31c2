"""The demo clinic page that embeds the website chat widget (`make run`: port 8080)."""
