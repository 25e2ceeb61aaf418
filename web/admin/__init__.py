"""The administration's pages and API: the route table, its gate and the sections."""
