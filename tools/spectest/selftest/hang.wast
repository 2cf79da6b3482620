;; Self-test of the per-script timeout (not part of the spec suite): the second action never
;; returns; the harness must kill the script, fail what did not run, and go on with other scripts.
(module
  (func (export "nothing"))
  (func (export "spin") (loop (br 0)))
)
(invoke "nothing")
(invoke "spin")
(invoke "nothing")
