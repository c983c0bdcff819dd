"""Agent Workspace: an open agent workspace for live customer chat."""
