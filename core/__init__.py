"""What every process shares: settings, the clinic, the knowledge, languages, messages, redaction."""
