int onebin_missing_answer(void) { return 42; }
