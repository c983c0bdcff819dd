"""One module per page; routes are the constants in agent_workspace.routes."""
