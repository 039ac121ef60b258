"""The shared guarded HTTP: the one httpx client builder, its address guard, and the retry rule."""
