"""The administration's sections, one module each, found by `web.admin.routing.find_sections`."""
