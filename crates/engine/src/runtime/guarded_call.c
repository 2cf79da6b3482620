/* placeholder */ int cranewasm_guarded_call_dummy;
