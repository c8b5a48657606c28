"""The chat in a browser: answer formatting (chat.py) and the Gradio app around one pipeline (app.py)."""
