"""In-app notifications, e-mail, reminders and digests; listens to the events qi announces."""
