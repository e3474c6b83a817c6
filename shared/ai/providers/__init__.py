"""Chat providers behind one small interface: OpenAI, Anthropic, Gemini over httpx, and an offline one."""
