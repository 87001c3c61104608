"""HTTP service and web page for Partner Matcher (FastAPI); see `api.main.create_app`."""
