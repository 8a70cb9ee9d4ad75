"""A text form of the IR that reads like the source it came from."""


class _Names:
    def __init__(self):
        self.names, self.used = {}, {}

    def __call__(self, v):
        if v not in self.names:
            base = v.hint or "t"
            n = self.used.get(base, 0)
            self.used[base] = n + 1
            self.names[v] = "%" + (base if n == 0 else f"{base}_{n}")
        return self.names[v]


def format_function(fn):
    name = _Names()
    params = ", ".join(f"{name(p)}: {p.type}" for p in fn.params)
    rets = ", ".join(str(t) for t in fn.result_types)
    lines = [f"func {fn.name}({params}) -> ({rets}) {{"]
    _block(fn.body, name, lines, 1)
    lines.append(f"  return {', '.join(name(v) for v in fn.body.yields)}")
    lines.append("}")
    return "\n".join(lines)


def _block(block, name, lines, depth):
    pad = "  " * depth
    for op in block.ops:
        res = ", ".join(f"{name(r)}: {r.type}" for r in op.results)
        lhs = f"{res} = " if res else ""
        args = [name(a) for a in op.args]
        if op.prim == "if":
            lines.append(f"{pad}{lhs}if {args[0]} {{")
            _block(op.blocks[0], name, lines, depth + 1)
            _yield(op.blocks[0], name, lines, depth + 1)
            lines.append(f"{pad}}} else {{")
            _block(op.blocks[1], name, lines, depth + 1)
            _yield(op.blocks[1], name, lines, depth + 1)
            lines.append(f"{pad}}}")
        elif op.prim == "for":
            body = op.blocks[0]
            iv, carried = body.params[0], body.params[1:]
            carry = ", ".join(f"{name(p)} = {a}" for p, a in zip(carried, args[3:]))
            lines.append(f"{pad}{lhs}for {name(iv)} in range({', '.join(args[:3])}) carry ({carry}) {{")
            _block(body, name, lines, depth + 1)
            _yield(body, name, lines, depth + 1)
            lines.append(f"{pad}}}")
        elif op.prim == "while":
            cond, body = op.blocks
            carry = ", ".join(f"{name(p)} = {a}" for p, a in zip(cond.params, args))
            lines.append(f"{pad}{lhs}while carry ({carry}) {{")
            _block(cond, name, lines, depth + 1)
            lines.append(f"{pad}  condition {name(cond.yields[0])}")
            lines.append(f"{pad}}} do {{")
            _block(body, name, lines, depth + 1)
            _yield(body, name, lines, depth + 1)
            lines.append(f"{pad}}}")
        else:
            attrs = {k: v for k, v in op.attrs.items() if k not in ("type",)}
            if op.prim == "const":
                lines.append(f"{pad}{lhs}{op.attrs['value']!r}")
                continue
            extra = " " + " ".join(f"{k}={v}" for k, v in attrs.items()) if attrs else ""
            lines.append(f"{pad}{lhs}{op.prim}({', '.join(args)}){extra}")


def _yield(block, name, lines, depth):
    if block.yields:
        lines.append("  " * depth + "yield " + ", ".join(name(v) for v in block.yields))
