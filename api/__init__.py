"""REST API v1 for mobile and third-party clients (Django REST framework)."""
