"""The domain's vocabulary, shared by the client code, the steps, the screens and the sandbox's emulator."""
