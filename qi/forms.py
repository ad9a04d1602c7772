"""Web forms: they check what the browser sent; the services in ``qi.services`` check the rules."""

from __future__ import annotations

from django import forms


class DataPointImportForm(forms.Form):
    """A CSV file of data points; ``services.data_points_import`` reads and checks its content."""

    file = forms.FileField(
        label="Upload a CSV file",
        help_text="A CSV UTF-8 file, at most 1 MB and 5,000 rows.",
        allow_empty_file=True,  # the import says what an empty file needs, more helpfully than Django would
        error_messages={"required": "Choose a CSV file to import."},
    )
