/// The built-in operations of the race language (kernel synchronisation and allocation
/// primitives), lowered to IR. Everything kernel-specific beyond these lives in races/include/.
extension FunctionCompiler {
    /// Memory barriers: no-ops under sequential consistency, `F` events for the LKMM engine.
    static let fences: [String: Fence] = [
        "smp_mb": .mb, "smp_memb": .mb, "mb": .mb, "smp_rmb": .rmb, "rmb": .rmb, "smp_wmb": .wmb, "wmb": .wmb,
        "barrier": .barrier, "smp_mb__before_atomic": .beforeAtomic, "smp_mb__after_atomic": .afterAtomic,
        "smp_mb__after_spinlock": .afterSpinlock, "smp_mb__after_unlock_lock": .afterUnlockLock,
        "smp_mb__after_srcu_read_unlock": .afterSrcuReadUnlock,
    ]

    static let noOps: Set<String> = [
        "smp_read_barrier_depends", "cpu_relax", "cond_resched", "schedule", "yield", "msleep", "usleep_range",
        "schedule_timeout_uninterruptible", "schedule_timeout_idle", "io_schedule",
        "printk", "pr_info", "pr_warn", "pr_err", "pr_debug", "might_sleep", "lockdep_assert_held",
        "mmap_assert_locked", "mmap_assert_write_locked", "flush_tlb_page", "flush_tlb_range",
        "update_mmu_cache", "update_mmu_cache_range", "flush_cache_page", "smp_mb__before_spinlock",
    ]

    func expectArgs(_ args: [Expr], _ n: Int, _ name: String, _ e: Expr) throws {
        if args.count != n { throw Diagnostic("\(name) takes \(n) argument\(n == 1 ? "" : "s"), \(args.count) given", at: e.location) }
    }

    /// An lvalue argument's address on the stack (for READ_ONCE(x) style built-ins).
    mutating func addressOf(_ x: Expr, _ name: String) throws -> CType {
        let lv = try lvalue(x)
        guard case .memory(let t) = lv else { throw Diagnostic("\(name) needs a shared location, not a register", at: x.location) }
        return t
    }

    /// A pointer argument's value on the stack; returns the pointee type.
    mutating func pointerArgument(_ x: Expr) throws -> CType {
        let t = try rvalue(x)
        return t.pointee ?? .int("int")
    }

    /// The name without its ordering suffix, and the suffix's mode (nil: no suffix, which for a
    /// value-returning RMW means fully ordered, `.mb`).
    static func stripOrdering(_ n: String) -> (String, AccessMode?) {
        for (suffix, mode) in [("_relaxed", AccessMode.once), ("_acquire", .acquire), ("_release", .release)] where n.hasSuffix(suffix) {
            return (String(n.dropLast(suffix.count)), mode)
        }
        return (n, nil)
    }

    mutating func call(_ name: String, _ args: [Expr], at e: Expr) throws -> CType {
        let l = e.location
        if let fi = compiler.functionIndex[name] {
            let f = file.functions[fi]
            if args.count != f.params.count {
                throw Diagnostic("\(name) takes \(f.params.count) argument\(f.params.count == 1 ? "" : "s"), \(args.count) given", at: l)
            }
            for a in args { try rvalue(a) }
            at(l)
            emit(.call(Int32(fi)))
            return f.returnType
        }
        if let f = FunctionCompiler.fences[name] {
            try expectArgs(args, 0, name, e)
            at(l); emit(.fence(f)); emit(.push(0)); return .void
        }
        if FunctionCompiler.noOps.contains(name) {
            emit(.push(0)); return .void
        }
        if Compiler.unsupportedBuiltins.contains(name) {
            throw Diagnostic(Diagnostic.Message.unsupported(name), at: l)
        }
        switch name {
        case "likely", "unlikely", "ATOMIC_INIT", "ATOMIC_LONG_INIT", "READ_ONCE_NOCHECK", "data_race", "ACCESS_PRIVATE":
            try expectArgs(args, 1, name, e)
            if name == "data_race" || name == "READ_ONCE_NOCHECK" { break }
            return try rvalue(args[0])
        case "min", "max":
            try expectArgs(args, 2, name, e)
            let a = newSlot(), b = newSlot()
            let t = try rvalue(args[0]); emit(.store(a))
            try rvalue(args[1]); emit(.store(b))
            emit(.load(a)); emit(.load(b)); emit(.binary(name == "min" ? .lt : .gt))
            let j = pc; emit(.jumpIfZero(0))
            emit(.load(a)); let j2 = pc; emit(.jump(0))
            patch(j, to: pc); emit(.load(b)); patch(j2, to: pc)
            return t
        case "smp_processor_id", "raw_smp_processor_id":
            emit(.threadId); return .int("int")
        default: break
        }
        if name == "data_race" {
            // KCSAN: the accesses of the expression race on purpose; it need not be an lvalue.
            uncheckedDepth += 1
            defer { uncheckedDepth -= 1 }
            return try rvalue(args[0])
        }
        if name == "READ_ONCE_NOCHECK" {
            return try load(try lvalue(args[0]), mode: .once, at: l)
        }
        if name == "ASSERT_EXCLUSIVE_WRITER" || name == "ASSERT_EXCLUSIVE_ACCESS" {
            // KCSAN's assertions: no other CPU may write (access) the location concurrently.
            try expectArgs(args, 1, name, e)
            _ = try addressOf(args[0], name)
            at(l)
            if name == "ASSERT_EXCLUSIVE_WRITER" { emit(.read(kind: 0, mode: .exclusiveWriter)) }
            else { emit(.push(0)); emit(.rmw(.fetchOr, mode: .exclusiveAccess)) }
            emit(.pop); emit(.push(0)); return .void
        }
        // Marked accesses.
        switch name {
        case "READ_ONCE", "rcu_dereference", "rcu_access_pointer", "rcu_dereference_protected", "rcu_dereference_raw",
             "rcu_dereference_check", "srcu_dereference", "rcu_dereference_bh", "rcu_dereference_sched":
            guard args.count >= 1 else { throw Diagnostic("\(name) needs an argument", at: l) }
            let lv = try lvalue(args[0])
            return try load(lv, mode: name == "READ_ONCE" ? .once : .rcu, at: l)
        case "WRITE_ONCE", "rcu_assign_pointer", "RCU_INIT_POINTER":
            try expectArgs(args, 2, name, e)
            let lv = try lvalue(args[0])
            switch lv {
            case .slot(let s, _):
                try rvalue(args[1]); emit(.store(s))
            case .memory(let t):
                try rvalue(args[1])
                at(l)
                emit(.write(kind: compiler.kindId(of: t), mode: name == "WRITE_ONCE" ? .once : .release))
            }
            emit(.push(0)); return .void
        case "smp_load_acquire", "atomic_read_acquire", "atomic_long_read_acquire":
            try expectArgs(args, 1, name, e)
            let t = try pointerArgument(args[0])
            at(l); emit(.read(kind: compiler.kindId(of: t), mode: .acquire)); return t
        case "smp_store_release", "smp_store_mb", "atomic_set_release", "atomic_long_set_release":
            try expectArgs(args, 2, name, e)
            let t = try pointerArgument(args[0])
            try rvalue(args[1])
            // smp_store_mb is WRITE_ONCE followed by smp_mb().
            at(l); emit(.write(kind: compiler.kindId(of: t), mode: name == "smp_store_mb" ? .once : .release))
            if name == "smp_store_mb" { emit(.fence(.mb)) }
            emit(.push(0)); return .void
        default: break
        }
        if let t = try atomicOp(name, args, e) { return t }
        if let t = try bitOp(name, args, e) { return t }
        if let t = try syncOp(name, args, e) { return t }
        throw Diagnostic("call to undeclared function '\(name)'", at: l)
    }

    // MARK: xchg / cmpxchg / atomic_*

    mutating func emitRMW(_ op: RMWOp, _ mode: AccessMode, pointer: Expr, operands: [Expr], at l: SourceLocation) throws -> CType {
        let t = try pointerArgument(pointer)
        for o in operands { try rvalue(o) }
        at(l)
        emit(.rmw(op, mode: mode))
        return t
    }

    mutating func atomicOp(_ fullName: String, _ args: [Expr], _ e: Expr) throws -> CType? {
        let l = e.location
        var (name, suffixMode) = FunctionCompiler.stripOrdering(fullName)
        // Value-returning RMWs without a suffix are fully ordered; plain reads and sets are ONCE.
        let mode = suffixMode ?? .mb
        // Bare xchg / cmpxchg.
        if name == "xchg" {
            try expectArgs(args, 2, fullName, e)
            return try emitRMW(.xchg, mode, pointer: args[0], operands: [args[1]], at: l)
        }
        if name == "cmpxchg" {
            try expectArgs(args, 3, fullName, e)
            return try emitRMW(.cmpxchg, mode, pointer: args[0], operands: [args[1], args[2]], at: l)
        }
        if name == "try_cmpxchg" {
            try expectArgs(args, 3, fullName, e)
            return try tryCmpxchg(pointer: args[0], expected: args[1], new: args[2], mode: mode, at: l)
        }
        var prefix = ""
        for p in ["atomic_long_", "atomic64_", "atomic_", "refcount_"] where name.hasPrefix(p) { prefix = p; break }
        guard !prefix.isEmpty else { return nil }
        name = String(name.dropFirst(prefix.count))
        if prefix == "refcount_" && !["read", "set", "inc", "dec", "add", "sub", "inc_not_zero", "dec_and_test", "sub_and_test"].contains(name) { return nil }
        let value: (Expr) -> Expr = { $0 }
        switch name {
        case "read":
            try expectArgs(args, 1, fullName, e)
            let t = try pointerArgument(args[0]); at(l); emit(.read(kind: 0, mode: suffixMode ?? .once)); return t
        case "set":
            try expectArgs(args, 2, fullName, e)
            _ = try pointerArgument(args[0]); try rvalue(args[1]); at(l); emit(.write(kind: 0, mode: suffixMode ?? .once))
            emit(.push(0)); return .void
        case "xchg":
            try expectArgs(args, 2, fullName, e)
            return try emitRMW(.xchg, mode, pointer: args[0], operands: [args[1]], at: l)
        case "cmpxchg":
            try expectArgs(args, 3, fullName, e)
            return try emitRMW(.cmpxchg, mode, pointer: args[0], operands: [args[1], args[2]], at: l)
        case "try_cmpxchg":
            try expectArgs(args, 3, fullName, e)
            return try tryCmpxchg(pointer: args[0], expected: args[1], new: args[2], mode: mode, at: l)
        case "inc_not_zero":
            try expectArgs(args, 1, fullName, e)
            _ = try pointerArgument(args[0]); emit(.push(1)); emit(.push(0)); at(l); emit(.rmw(.addUnless, mode: mode))
            emit(.push(0)); emit(.binary(.ne)); return .int("bool")
        case "add_unless":
            try expectArgs(args, 3, fullName, e)
            _ = try pointerArgument(args[0]); try rvalue(args[1]); try rvalue(args[2]); at(l); emit(.rmw(.addUnless, mode: mode))
            let old = newSlot(); emit(.store(old))
            emit(.load(old)); try rvalue(args[2]); emit(.binary(.ne)); return .int("bool")
        case "dec_if_positive":
            throw Diagnostic(Diagnostic.Message.unsupported(fullName), at: l)
        default: break
        }
        // Arithmetic families: OP, OP_return, fetch_OP, OP_and_test, add_negative, inc/dec forms.
        var form = "void", op = name
        if op.hasPrefix("fetch_") { form = "fetch"; op = String(op.dropFirst(6)) }
        else if op.hasSuffix("_return") { form = "return"; op = String(op.dropLast(7)) }
        else if op.hasSuffix("_and_test") { form = "test"; op = String(op.dropLast(9)) }
        else if op == "add_negative" { form = "negative"; op = "add" }
        let unit = op == "inc" || op == "dec"
        let rmw: RMWOp
        var negate = false
        switch op {
        case "add", "inc": rmw = .fetchAdd
        case "sub", "dec": rmw = .fetchAdd; negate = true
        case "and": rmw = .fetchAnd
        case "or": rmw = .fetchOr
        case "xor": rmw = .fetchXor
        case "andnot": rmw = .fetchAndNot
        default: throw Diagnostic(Diagnostic.Message.unsupported(fullName), at: l)
        }
        try expectArgs(args, unit ? 1 : 2, fullName, e)
        let ptr = unit ? args[0] : args[1]
        let operand = newSlot()
        if unit { emit(.push(1)) } else { try rvalue(value(args[0])) }
        if negate { emit(.neg) }
        emit(.store(operand))
        _ = try pointerArgument(ptr)
        emit(.load(operand))
        at(l)
        emit(.rmw(rmw, mode: form == "void" ? .noreturn : mode))
        switch form {
        case "void": emit(.pop); emit(.push(0)); return .void
        case "fetch": return .int("int")
        default:
            // New value = old OP operand.
            emit(.load(operand))
            switch rmw {
            case .fetchAdd: emit(.binary(.add))
            case .fetchAnd: emit(.binary(.and))
            case .fetchOr: emit(.binary(.or))
            case .fetchXor: emit(.binary(.xor))
            case .fetchAndNot: emit(.bitNot); emit(.binary(.and))
            default: break
            }
            if form == "test" { emit(.push(0)); emit(.binary(.eq)); return .int("bool") }
            if form == "negative" { emit(.push(0)); emit(.binary(.lt)); return .int("bool") }
            return .int("int")
        }
    }

    mutating func tryCmpxchg(pointer: Expr, expected: Expr, new: Expr, mode: AccessMode, at l: SourceLocation) throws -> CType {
        // try_cmpxchg(p, &old, new): on failure *(&old) = current value; returns success.
        guard case .unary(.addressOf, let oldLV) = expected.kind else {
            throw Diagnostic("try_cmpxchg needs &variable as its second argument", at: expected.location)
        }
        let observed = newSlot(), want = newSlot()
        try rvalue(oldLV); emit(.store(want))
        _ = try pointerArgument(pointer)
        emit(.load(want))
        try rvalue(new)
        at(l)
        emit(.rmw(.cmpxchg, mode: mode))
        emit(.store(observed))
        emit(.load(observed)); emit(.load(want)); emit(.binary(.eq))
        let j = pc; emit(.jumpIfNotZero(0))
        // Failure: write back the observed value.
        _ = try assign(oldLV, fromSlot: observed)
        emit(.pop)
        emit(.push(0))
        let jEnd = pc; emit(.jump(0))
        patch(j, to: pc)
        emit(.push(1))
        patch(jEnd, to: pc)
        return .int("bool")
    }

    /// The type a kmalloc size names: `sizeof(T)`, `sizeof(*p)`, `n * sizeof(T)` (nil otherwise).
    mutating func allocatedType(_ size: Expr) -> CType? {
        switch size.kind {
        case .sizeofType(let t): return t
        case .sizeofExpr(let x): return try? staticType(x)
        case .binary(.mul, let a, let b): return allocatedType(a) ?? allocatedType(b)
        case .cast(_, let x): return allocatedType(x)
        default: return nil
        }
    }

    /// Plain assignment to `l` of the value in a slot, which it leaves on the stack (try_cmpxchg, `assignFromStack`).
    mutating func assign(_ l: Expr, fromSlot valueSlot: Int32) throws -> CType {
        let lv = try lvalue(l, defining: true)
        switch lv {
        case .slot(let s, let t):
            emit(.load(valueSlot)); emit(.dup); emit(.store(s)); return t
        case .memory(let t):
            emit(.load(valueSlot)); emit(.write(kind: compiler.kindId(of: t), mode: .plain)); emit(.load(valueSlot)); return t
        }
    }

    // MARK: bit operations

    mutating func bitOp(_ name: String, _ args: [Expr], _ e: Expr) throws -> CType? {
        let l = e.location
        let ops: [String: (RMWOp?, Bool)] = [   // (operation, returns old bit)
            "set_bit": (.fetchOr, false), "__set_bit": (.fetchOr, false), "clear_bit": (.fetchAndNot, false),
            "__clear_bit": (.fetchAndNot, false), "clear_bit_unlock": (.fetchAndNot, false), "change_bit": (.fetchXor, false),
            "test_and_set_bit": (.fetchOr, true), "test_and_set_bit_lock": (.fetchOr, true), "test_and_clear_bit": (.fetchAndNot, true),
            "test_and_change_bit": (.fetchXor, true), "test_bit": (nil, true),
        ]
        guard let (op, returnsBit) = ops[name] else {
            if name == "wait_on_bit" || name == "wait_on_bit_lock" {
                try expectArgs(args, 2, name, e)
                _ = try pointerArgument(args[1])
                try rvalue(args[0])
                at(l)
                emit(.sync(name == "wait_on_bit" ? .waitOnBit : .waitOnBitLock))
                emit(.push(0))
                return .void
            }
            return nil
        }
        try expectArgs(args, 2, name, e)
        let nr = newSlot()
        try rvalue(args[0]); emit(.store(nr))
        _ = try pointerArgument(args[1])
        at(l)
        if let op {
            emit(.push(1)); emit(.load(nr)); emit(.binary(.shl))
            emit(.rmw(op, mode: name.hasSuffix("_lock") ? .acquire : (name.hasSuffix("_unlock") ? .release : .once)))
        } else {
            emit(.read(kind: 0, mode: .once))
        }
        if returnsBit {
            emit(.load(nr)); emit(.binary(.shr)); emit(.push(1)); emit(.binary(.and))
            return .int("bool")
        }
        emit(.pop); emit(.push(0))
        return .void
    }

    // MARK: locks, RCU, IRQs, allocation, assertions

    /// Records an RCU callback (nil: kfree_rcu) so that the program gets its callback thread.
    mutating func noteRCUCallback(_ fi: Int32?) {
        if compiler.rcuCallbackSite < 0 { compiler.rcuCallbackSite = currentLocation }
        if let fi, !compiler.rcuCallbackFunctions.contains(fi) { compiler.rcuCallbackFunctions.append(fi) }
    }

    mutating func syncOp(_ name: String, _ args: [Expr], _ e: Expr) throws -> CType? {
        let l = e.location
        func simple(_ op: SyncOp, address: Bool, returns: Bool = false) throws -> CType {
            try expectArgs(args, address ? 1 : 0, name, e)
            if address { _ = try pointerArgument(args[0]) }
            at(l)
            emit(.sync(op))
            if !returns { emit(.push(0)); return .void }
            return .int("int")
        }
        var n = name
        for p in ["raw_", "arch_"] where n.hasPrefix(p) && n.contains("spin") { n = String(n.dropFirst(p.count)) }
        switch n {
        case "spin_lock", "spin_lock_bh", "spin_lock_nested", "mutex_lock", "mutex_lock_nested", "spin_lock_irq":
            if n == "spin_lock_nested" || n == "mutex_lock_nested" {
                guard args.count == 2 else { throw Diagnostic("\(name) takes 2 arguments", at: l) }
                _ = try pointerArgument(args[0]); at(l); emit(.sync(.spinLock)); emit(.push(0)); return .void
            }
            if n == "spin_lock_irq" { emit(.sync(.irqDisable)) }
            return try simple(.spinLock, address: true)
        case "mutex_lock_killable", "mutex_lock_interruptible":
            _ = try simple(.spinLock, address: true); emit(.pop); emit(.push(0)); return .int("int")
        case "spin_unlock", "spin_unlock_bh", "mutex_unlock", "spin_unlock_irq":
            let t = try simple(.spinUnlock, address: true)
            if n == "spin_unlock_irq" { emit(.pop); emit(.sync(.irqEnable)) ; emit(.push(0)) }
            return t
        case "spin_lock_irqsave":
            try expectArgs(args, 2, name, e)
            emit(.sync(.irqSave))
            _ = try assignFromStack(args[1])
            _ = try pointerArgument(args[0]); at(l); emit(.sync(.spinLock)); emit(.push(0)); return .void
        case "spin_unlock_irqrestore":
            try expectArgs(args, 2, name, e)
            _ = try pointerArgument(args[0]); at(l); emit(.sync(.spinUnlock))
            try rvalue(args[1]); emit(.sync(.irqRestore)); emit(.push(0)); return .void
        case "spin_trylock", "mutex_trylock", "spin_trylock_bh": return try simple(.spinTrylock, address: true, returns: true)
        case "spin_is_locked", "mutex_is_locked": return try simple(.spinIsLocked, address: true, returns: true)
        case "spin_unlock_wait": return try simple(.spinUnlockWait, address: true)
        case "down_read", "down_read_killable", "down_read_interruptible":
            let t = try simple(.downRead, address: true)
            return n == "down_read" ? t : .int("int")
        case "up_read": return try simple(.upRead, address: true)
        case "down_write", "down_write_killable":
            let t = try simple(.downWrite, address: true)
            return n == "down_write" ? t : .int("int")
        case "up_write": return try simple(.upWrite, address: true)
        case "down_read_trylock": return try simple(.downReadTrylock, address: true, returns: true)
        case "down_write_trylock": return try simple(.downWriteTrylock, address: true, returns: true)
        case "downgrade_write": return try simple(.downgradeWrite, address: true)
        case "rcu_read_lock", "rcu_read_lock_bh", "rcu_read_lock_sched", "preempt_disable": return try simple(.rcuReadLock, address: false)
        case "rcu_read_unlock", "rcu_read_unlock_bh", "rcu_read_unlock_sched", "preempt_enable": return try simple(.rcuReadUnlock, address: false)
        case "synchronize_rcu", "synchronize_rcu_expedited", "synchronize_sched", "synchronize_rcu_bh", "synchronize_net":
            return try simple(.synchronizeRCU, address: false)
        // srcu_down_read/srcu_up_read are srcu_read_lock/unlock whose section may end on another
        // CPU (linux-kernel.def: the same srcu-lock and srcu-unlock events).
        case "srcu_read_lock", "srcu_read_lock_nmisafe", "srcu_down_read": return try simple(.srcuReadLock, address: true, returns: true)
        case "srcu_read_unlock", "srcu_read_unlock_nmisafe", "srcu_up_read":
            // The operands: the index, then the srcu_struct (on top, where every SRCU operation
            // has it); the unlock ends the section the index names and the LKMM engine writes it.
            try expectArgs(args, 2, name, e)
            try rvalue(args[1]); _ = try pointerArgument(args[0])
            at(l); emit(.sync(.srcuReadUnlock)); emit(.push(0)); return .void
        case "synchronize_srcu", "synchronize_srcu_expedited": return try simple(.synchronizeSRCU, address: true)
        case "local_irq_disable": return try simple(.irqDisable, address: false)
        case "local_irq_enable": return try simple(.irqEnable, address: false)
        case "local_irq_save":
            try expectArgs(args, 1, name, e)
            at(l); emit(.sync(.irqSave))
            _ = try assignFromStack(args[0])
            emit(.push(0)); return .void
        case "local_irq_restore":
            try expectArgs(args, 1, name, e)
            try rvalue(args[0]); at(l); emit(.sync(.irqRestore)); emit(.push(0)); return .void
        case "call_rcu", "call_rcu_hurry":
            // The callback runs on the RCU callback thread after a grace period. Callbacks are
            // named, not stored: the language has no function pointers.
            try expectArgs(args, 2, name, e)
            guard case .name(let cb) = args[1].kind, let fi = compiler.functionIndex[cb] else {
                throw Diagnostic("\(name)'s callback must be the name of a function defined in the file", at: args[1].location)
            }
            if file.functions[fi].params.count != 1 {
                throw Diagnostic("RCU callback '\(cb)' must take one argument (the struct rcu_head *)", at: args[1].location)
            }
            _ = try pointerArgument(args[0])
            emit(.push(Int64(fi)))
            at(l); emit(.sync(.callRCU)); noteRCUCallback(Int32(fi))
            emit(.push(0)); return .void
        case "kfree_rcu", "kvfree_rcu", "kfree_rcu_mightsleep", "kvfree_rcu_mightsleep":
            // kfree_rcu(ptr, rhf) names the rcu_head field; the object is what is freed.
            guard args.count == 1 || args.count == 2 else { throw Diagnostic("\(name) takes a pointer and the name of its rcu_head field", at: l) }
            _ = try pointerArgument(args[0])
            emit(.push(-1))
            at(l); emit(.sync(.callRCU)); noteRCUCallback(nil)
            emit(.push(0)); return .void
        case "cond_resched_rcu":
            // rcu_read_unlock(); cond_resched(); rcu_read_lock(): a quiescent state.
            try expectArgs(args, 0, name, e)
            at(l); emit(.sync(.rcuReadUnlock)); emit(.sync(.rcuReadLock)); emit(.push(0)); return .void
        case "wait_event", "wait_event_interruptible", "wait_event_killable", "wait_event_freezable", "wait_event_idle":
            // prepare_to_wait() (read the queue's wake-up count), test the condition, sleep until
            // a wake_up() moves the count; again. A wake-up between the test and the sleep is not
            // lost; a condition made true without a wake_up() leaves the sleeper asleep.
            try expectArgs(args, 2, name, e)
            let seq = newSlot()
            let top = pc
            _ = try addressOf(args[0], name); at(l); emit(.read(kind: 0, mode: .acquire)); emit(.store(seq))
            try rvalue(args[1])
            let done = pc; emit(.jumpIfNotZero(0))
            _ = try addressOf(args[0], name); emit(.load(seq)); at(l); emit(.sync(.waitEventSleep))
            emit(.jump(Int32(top)))
            patch(done, to: pc)
            emit(.push(0)); return .int("int")
        case "wait_event_timeout", "wait_event_interruptible_timeout", "wait_event_killable_timeout", "wait_event_idle_timeout":
            // As wait_event(), but the sleep may also time out, at any moment (time is not
            // modelled): woken, test again; timed out, test once more (the kernel's
            // ___wait_cond_timeout()) and return 1 if the condition holds, else 0. A condition
            // found true before that returns the timeout (no time has passed; at least 1).
            try expectArgs(args, 3, name, e)
            let seq = newSlot(), res = newSlot()
            try rvalue(args[2]); emit(.store(res))
            let top = pc
            _ = try addressOf(args[0], name); at(l); emit(.read(kind: 0, mode: .acquire)); emit(.store(seq))
            try rvalue(args[1])
            let early = pc; emit(.jumpIfNotZero(0))
            _ = try addressOf(args[0], name); emit(.load(seq)); at(l); emit(.sync(.waitEventTimeoutSleep))
            emit(.jumpIfNotZero(Int32(top)))
            try rvalue(args[1])
            emit(.not); emit(.not); emit(.store(res))
            let end = pc; emit(.jump(0))
            patch(early, to: pc)
            emit(.load(res)); let positive = pc; emit(.jumpIfNotZero(0))
            emit(.push(1)); emit(.store(res))
            patch(positive, to: pc)
            patch(end, to: pc)
            emit(.load(res)); return .int("long")
        case "smp_cond_load_acquire", "smp_cond_load_relaxed", "atomic_cond_read_acquire", "atomic_cond_read_relaxed":
            // A spin-wait on one location until `cond` (over VAL, the value read) holds. A CPU
            // that re-reads an unchanged value makes no progress, so it sleeps until the location
            // changes instead (fair: nothing else can happen to it meanwhile): a wait that can
            // never be satisfied is a deadlock, not a livelock.
            try expectArgs(args, 2, name, e)
            let p = newSlot(), val = newSlot()
            let t = try pointerArgument(args[0]); emit(.store(p))
            let top = pc
            emit(.load(p)); at(l); emit(.read(kind: 0, mode: n.hasSuffix("acquire") ? .acquire : .once)); emit(.store(val))
            scopes.append(["VAL": .slot(val, t)])
            try rvalue(args[1])
            scopes.removeLast()
            let done = pc; emit(.jumpIfNotZero(0))
            emit(.load(p)); emit(.load(val)); at(l); emit(.sync(.waitEventSleep))
            emit(.jump(Int32(top)))
            patch(done, to: pc)
            emit(.load(val)); return t
        case "wake_up", "wake_up_all", "wake_up_interruptible", "wake_up_interruptible_all", "wake_up_var":
            // Fully ordered when it wakes someone (the kernel's try_to_wake_up()): an RMW.
            try expectArgs(args, 1, name, e)
            _ = try pointerArgument(args[0]); emit(.push(1))
            at(l); emit(.rmw(.fetchAdd, mode: .mb)); emit(.pop); emit(.push(0)); return .void
        case "init_waitqueue_head", "init_completion", "reinit_completion":
            try expectArgs(args, 1, name, e)
            _ = try pointerArgument(args[0]); emit(.push(0))
            at(l); emit(.write(kind: 0, mode: .once)); emit(.push(0)); return .void
        case "complete", "complete_all":
            try expectArgs(args, 1, name, e)
            _ = try pointerArgument(args[0])
            if n == "complete" { emit(.push(1)); at(l); emit(.rmw(.fetchAdd, mode: .mb)) }
            else { emit(.push(Int64(UInt32.max))); at(l); emit(.rmw(.xchg, mode: .mb)) }
            emit(.pop); emit(.push(0)); return .void
        case "wait_for_completion", "wait_for_completion_killable", "wait_for_completion_interruptible", "wait_for_completion_io":
            let t = try simple(.waitForCompletion, address: true)
            return n == "wait_for_completion" || n == "wait_for_completion_io" ? t : .int("int")
        case "completion_done":
            try expectArgs(args, 1, name, e)
            _ = try pointerArgument(args[0]); at(l); emit(.read(kind: 0, mode: .once))
            emit(.push(0)); emit(.binary(.ne)); return .int("bool")
        case "tlb_shootdown", "flush_tlb_all", "flush_tlb_mm": 
            if !args.isEmpty { for a in args { try rvalue(a); emit(.pop) } }
            at(l); emit(.sync(.tlbShootdown)); emit(.push(0)); return .void
        case "kmalloc", "kzalloc", "kcalloc", "kmem_cache_alloc", "kmem_cache_zalloc":
            guard args.count >= 1 else { throw Diagnostic("\(name) needs a size", at: l) }
            let hint = allocationHint
            if n == "kcalloc" { try rvalue(args[0]); try rvalue(args[1]); emit(.binary(.mul)) } else { try rvalue(args[0]) }
            at(l)
            let sized = allocatedType(n == "kcalloc" && args.count > 1 ? args[1] : args[0])
            if let t = sized ?? hint, t.resolved != .void { compiler.allocationTypes[currentLocation] = t }
            emit(.alloc(kind: 0, origin: ObjectOrigin.heap.rawValue)); return .pointer(.void)
        case "alloc_page", "alloc_pages":
            guard args.count >= 1, case .typeArgument(let t) = args[0].kind else {
                throw Diagnostic("alloc_page takes the storage type of the page, e.g. alloc_page(pte_t)", at: l)
            }
            let kind = compiler.kindId(of: t)
            emit(.push(Int64(Address.pageCells)))
            at(l); compiler.allocationTypes[currentLocation] = t
            emit(.alloc(kind: kind, origin: ObjectOrigin.page.rawValue))
            return .pointer(t)
        case "kfree", "kmem_cache_free", "kvfree":
            guard args.count >= 1 else { throw Diagnostic("\(name) needs a pointer", at: l) }
            _ = try pointerArgument(args.last!)
            at(l); emit(.sync(.free)); emit(.push(0)); return .void
        case "free_page", "__free_page", "free_pages", "__free_pages":
            guard args.count >= 1 else { throw Diagnostic("\(name) needs a pointer", at: l) }
            _ = try pointerArgument(args[0])
            at(l); emit(.sync(.freePage)); emit(.push(0)); return .void
        case "BUG_ON", "VM_BUG_ON", "assert", "VM_BUG_ON_PAGE", "VM_BUG_ON_VMA", "VM_BUG_ON_FOLIO", "BUILD_BUG_ON":
            guard args.count >= 1 else { throw Diagnostic("\(name) needs a condition", at: l) }
            if n == "assert" {
                try rvalue(args[0]); emit(.not)
            } else { try rvalue(args[0]) }
            let text = name + "(" + ExprPrinter.print(args[0]) + ")"
            at(l); emit(.check(.assertion, compiler.string(text)))
            emit(.push(0)); return .void
        case "WARN_ON", "WARN_ON_ONCE", "VM_WARN_ON", "VM_WARN_ON_ONCE", "WARN", "WARN_ONCE", "VM_WARN_ON_FOLIO":
            guard args.count >= 1 else { throw Diagnostic("\(name) needs a condition", at: l) }
            try rvalue(args[0])
            emit(.not); emit(.not)
            emit(.dup)
            let text = name + "(" + ExprPrinter.print(args[0]) + ")"
            at(l); emit(.check(.assertion, compiler.string(text)))
            return .int("bool")
        case "pr_cont":
            // Text for a trace formatter (`__format_T`, see docs/language.md); a no-op elsewhere.
            guard let first = args.first, case .string(let format) = first.kind else {
                throw Diagnostic("pr_cont takes a format string first", at: l)
            }
            for a in args.dropFirst() { try rvalue(a) }
            at(l); emit(.print(compiler.string(format), Int32(args.count - 1))); emit(.push(0)); return .void
        case "BUG":
            at(l); emit(.fail(.assertion, compiler.string("BUG()"))); emit(.push(0)); return .void
        case "assume":
            try expectArgs(args, 1, name, e)
            try rvalue(args[0]); emit(.assume); emit(.push(0)); return .void
        default:
            return nil
        }
    }

    /// Stores the value on top of the stack into an lvalue (for irqsave flags).
    mutating func assignFromStack(_ target: Expr) throws -> CType {
        let tmp = newSlot()
        emit(.store(tmp))
        return try assign(target, fromSlot: tmp)
    }
}

/// Renders an expression back to C-like text (for assertion messages).
package enum ExprPrinter {
    package static func print(_ e: Expr) -> String {
        switch e.kind {
        case .integer(let v): return String(v)
        case .string(let s): return "\"\(s)\""
        case .name(let n): return n
        case .unary(let op, let x): return op.spelling + print(x)
        case .postfix(let op, let x): return print(x) + op.spelling
        case .binary(let op, let a, let b): return "\(print(a)) \(op.spelling) \(print(b))"
        case .assign(let op, let a, let b): return "\(print(a)) \(op?.spelling ?? "")= \(print(b))"
        case .ternary(let c, let a, let b): return "\(print(c)) ? \(print(a)) : \(print(b))"
        case .call(let n, let args): return n + "(" + args.map(print).joined(separator: ", ") + ")"
        case .member(let b, let f, let arrow): return print(b) + (arrow ? "->" : ".") + f
        case .index(let b, let i): return print(b) + "[" + print(i) + "]"
        case .cast(let t, let x): return "(\(t))" + print(x)
        case .sizeofType(let t): return "sizeof(\(t))"
        case .sizeofExpr(let x): return "sizeof(" + print(x) + ")"
        case .typeArgument(let t): return t.description
        case .comma(let a, let b): return print(a) + ", " + print(b)
        case .initList(let xs): return "{" + xs.map(print).joined(separator: ", ") + "}"
        }
    }
}
