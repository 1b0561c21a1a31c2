"""The staff console: conversation logs behind a login, dashboards, exports, annotations."""
