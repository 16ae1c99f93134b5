"""Backend: FastAPI service, site registry, history, fleet health, alerts, irrigation advice, snow coverage."""
