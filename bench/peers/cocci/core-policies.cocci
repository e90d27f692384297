// The core policies of Rules/ as naive coccinelle report rules, for
// bench/run: every call of the module loader's allocator
// (module-alloc-misuse), every use of VM_FLUSH_RESET_PERMS
// (flush-reset-perms-outside-core) and of a writable+executable protection
// (wx-mapping). kpolicy narrows these by place, kernel version and
// resolved callee; bench/run counts which findings are policy hits
// (docs/validation.md).
// Confidence: low (naive). Options: --use-gitgrep -D report.
virtual report

@r1 depends on report@
position p;
@@
(
 module_alloc@p(...)
|
 module_memfree@p(...)
|
 module_alloc_huge@p(...)
)

@script:python depends on report@
p << r1.p;
@@
coccilib.report.print_report(p[0], "module-alloc-misuse")

@r2 depends on report@
position p;
expression E;
@@
(
 VM_FLUSH_RESET_PERMS@p
|
 set_vm_flush_reset_perms@p(E)
)

@script:python depends on report@
p << r2.p;
@@
coccilib.report.print_report(p[0], "flush-reset-perms-outside-core")

@r3 depends on report@
position p;
@@
(
 PAGE_KERNEL_EXEC@p
|
 PAGE_KERNEL_RWX@p
)

@script:python depends on report@
p << r3.p;
@@
coccilib.report.print_report(p[0], "wx-mapping")
