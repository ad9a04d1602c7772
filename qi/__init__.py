"""The QI domain: models, access rules, workflow services, statistics and web pages."""
