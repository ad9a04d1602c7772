"""One module per group of API resources: serializers, filters and views together, registered in api.urls."""
