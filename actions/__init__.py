"""Custom actions of the Synapse Physiotherapy muscle-atrophy assistant (rasa-sdk)."""
