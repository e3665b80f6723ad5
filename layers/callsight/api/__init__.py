"""The API's domain: request/response models, listing with opaque cursors, role-aware views.
Routes live in ``functions/api/app.py`` (Chalice) and stay thin."""
