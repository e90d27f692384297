print("kpolicy-bench: not built yet")
