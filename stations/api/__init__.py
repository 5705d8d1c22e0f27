"""The web API (FastAPI): ``stations.api.app.create_app(settings)``."""
