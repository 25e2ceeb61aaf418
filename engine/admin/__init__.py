"""Administration: who may manage what (roles and organisation scope) and the audit log."""
