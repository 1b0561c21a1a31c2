"""What runs inside the Rasa server: NLU components, stores, admission, guards, the action call."""
