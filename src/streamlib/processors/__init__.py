"""Built-in processors (the audio and video processors of API.md arrive with their issues)."""

__all__: list[str] = []
