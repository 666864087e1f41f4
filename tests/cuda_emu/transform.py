#!/usr/bin/env python3
"""Rewrite a CUDA source file into a C++ translation unit for the emulator (shim.h).

    transform.py INPUT.cu OUTPUT.cpp

The output includes shim.h, then the kernel source with a #line directive, so compiler
messages and the emulator's reports point into the .cu file; every rewrite keeps the
line structure. What changes:

  kernel<<<grid, block[, smem[, stream]]>>>(args)
      -> emu::launch([&](auto... a) { kernel(a...); }, grid, block, smem, stream,
                     "kernel", __FILE__, __LINE__)(args)
      The kernel may be a template-id (k<Op>, k<HSP>), deduced or not: the generic
      lambda calls it as a function would be called.
  [static] __shared__ T a[N], b[M];
      -> static emu::Shared<T[N]> emu_shared_a; auto &a = emu_shared_a.use(); ...
  extern __shared__ T a[];   (inside a function)
      -> T *const a = emu::dynamic_shared<T>();
  __launch_bounds__(n, ...) on a kernel
      -> EMU_LAUNCH_BOUNDS(n, ...) at the top of its body: the block size is checked
  #pragma unroll [n]
      -> commented out (GCC would warn about an unknown pragma)
  #include <cuda_bf16.h>, <cuda_runtime.h>, <device_launch_parameters.h>
      -> commented out (shim.h provides them)

Anything the emulator cannot run and this script can see (inline PTX, cooperative
groups, half precision, textures, file-scope dynamic shared memory) is an error, so a
kernel file that outgrows the emulator fails to build here instead of passing untested.
"""
import os
import re
import sys

PROVIDED_HEADERS = {'cuda_bf16.h', 'cuda_runtime.h', 'device_launch_parameters.h'}
UNSUPPORTED_HEADERS = ('cuda_fp16.h', 'cooperative_groups', 'cuda/', 'cub/', 'mma.h', 'cuda_pipeline',
                       'cuda_awbarrier', 'sm_', 'texture')
UNSUPPORTED_TOKENS = {
    'asm': 'inline PTX',
    '__asm__': 'inline PTX',
    'cooperative_groups': 'cooperative groups',
    'tex1Dfetch': 'textures',
    'tex2D': 'textures',
    'cudaLaunchKernel': 'cudaLaunchKernel (use <<< >>>)',
    'cudaLaunchCooperativeKernel': 'cooperative launches',
    '__half': 'half precision',
    '__nv_bfloat162': 'packed bf16',
    '__cluster_dims__': 'thread block clusters',
}


class TransformError(Exception):
    pass


def mask_comments_and_strings(src):
    """The source with comments, string and character literals blanked (newlines
    kept), so that searches see code only and offsets stay those of src."""
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = ' '
            i = j
        elif src.startswith('/*', i):
            j = src.find('*/', i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != '\n':
                    out[k] = ' '
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == '\\' else 1
            for k in range(i + 1, min(j, n)):
                if out[k] != '\n':
                    out[k] = ' '
            i = j + 1
        else:
            i += 1
    return ''.join(out)


def line_of(src, pos):
    return src.count('\n', 0, pos) + 1


def match_forward(code, pos, open_ch, close_ch):
    """Index of the close_ch matching the open_ch at pos."""
    depth = 0
    for i in range(pos, len(code)):
        if code[i] == open_ch:
            depth += 1
        elif code[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
    raise TransformError('unbalanced %s at offset %d' % (open_ch, pos))


def split_top_level(text):
    """Split on commas outside (), [] and {}."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        if ch == ',' and depth == 0:
            parts.append(''.join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append(''.join(cur))
    return parts


def in_function_body(code, pos):
    """Whether pos is inside a function body (not at namespace or class scope)."""
    stack = []
    for m in re.finditer(r'[{}]', code[:pos]):
        if m.group() == '{':
            start = max(code.rfind(';', 0, m.start()), code.rfind('}', 0, m.start()),
                        code.rfind('{', 0, m.start()))
            head = code[start + 1:m.start()]
            if re.search(r'\bnamespace\b', head) or re.match(r'^\s*extern\s*"\s*"\s*$', head):
                stack.append('ns')
            elif re.search(r'\b(struct|class|union|enum)\b', head) and ')' not in head:
                stack.append('type')
            else:
                stack.append('code')
        elif stack:
            stack.pop()
    return 'code' in stack


def kernel_before(src, code, pos):
    """(start, text) of the kernel expression that ends right before pos (the <<<)."""
    k = pos
    while k > 0 and code[k - 1].isspace():
        k -= 1
    end = k
    if k > 0 and code[k - 1] == '>':
        depth = 0
        while k > 0:
            k -= 1
            if code[k] == '>':
                depth += 1
            elif code[k] == '<':
                depth -= 1
                if depth == 0:
                    break
        while k > 0 and code[k - 1].isspace():
            k -= 1
    while k > 0 and (code[k - 1].isalnum() or code[k - 1] in '_:'):
        k -= 1
    name = src[k:end]
    if not re.match(r'^[A-Za-z_][\w:]*\s*(<.*>)?$', name, re.S):
        raise TransformError('line %d: cannot find the kernel name before <<<' % line_of(src, pos))
    return k, name


def macro_parameters(src, pos):
    """The parameters of the function-like macro whose definition contains pos, if any."""
    lines = src[:pos].split('\n')
    n = len(lines) - 1
    while n > 0 and lines[n - 1].rstrip().endswith('\\'):
        n -= 1
    m = re.match(r'^\s*#\s*define\s+\w+\(([^)]*)\)', lines[n])
    return [p.strip() for p in m.group(1).split(',')] if m else []


def rewrite_launches(src, code):
    out, i = [], 0
    for m in re.finditer(r'<<<', code):
        if m.start() < i:
            continue
        start, name = kernel_before(src, code, m.start())
        close = code.find('>>>', m.end())
        if close < 0:
            raise TransformError('line %d: <<< without >>>' % line_of(src, m.start()))
        cfg = split_top_level(src[m.end():close])
        if not 2 <= len(cfg) <= 4 or any(not c.strip() for c in cfg):
            raise TransformError('line %d: launch configuration <<<%s>>> is not grid, block[, smem[, stream]]'
                                 % (line_of(src, m.start()), src[m.end():close]))
        smem = cfg[2] if len(cfg) > 2 else '0'
        stream = cfg[3] if len(cfg) > 3 else 'nullptr'
        after = close + 3
        while after < len(code) and code[after].isspace():
            after += 1
        if after >= len(code) or code[after] != '(':
            raise TransformError('line %d: no argument list after >>>' % line_of(src, m.start()))
        label = '"%s"' % re.sub(r'\s+', ' ', name).replace('"', '')
        if name in macro_parameters(src, m.start()):
            label = '#' + name  # the kernel is an argument of the macro being defined
        out.append(src[i:start])
        out.append('emu::launch([&](auto... emu_a_) { %s(emu_a_...); }, %s, %s, %s, %s, %s, __FILE__, __LINE__)'
                   % (name, cfg[0], cfg[1], smem, stream, label))
        # Keep whatever lay between >>> and the argument list (newlines included).
        out.append(src[close + 3:after])
        i = after
    out.append(src[i:])
    return ''.join(out)


def rewrite_shared(src, code):
    out, i = [], 0
    for m in re.finditer(r'\b__shared__\b', code):
        semi = code.find(';', m.end())
        if semi < 0:
            raise TransformError('line %d: __shared__ without ;' % line_of(src, m.start()))
        # Qualifiers in front of __shared__ (extern, static, __align__(n)).
        head_start = m.start()
        while True:
            prefix = re.search(r'(\bextern|\bstatic|__align__\s*\(\s*\d+\s*\)|alignas\s*\(\s*\d+\s*\))\s*$',
                               code[:head_start])
            if not prefix:
                break
            head_start = prefix.start()
        qualifiers = code[head_start:m.start()]
        decl = code[m.end():semi]
        decl = re.sub(r'__align__\s*\(\s*\d+\s*\)|alignas\s*\(\s*\d+\s*\)', ' ', decl)
        if '\n' in decl.strip():
            raise TransformError('line %d: a __shared__ declaration over several lines' % line_of(src, m.start()))
        line = line_of(src, m.start())
        if re.search(r'\bextern\b', qualifiers):
            mm = re.match(r'^\s*(.+?)\s*\b([A-Za-z_]\w*)\s*\[\s*\]\s*$', decl)
            if not mm:
                raise TransformError('line %d: extern __shared__ that is not "T name[]"' % line)
            if not in_function_body(code, m.start()):
                raise TransformError('line %d: file-scope extern __shared__ is not supported; declare it in the '
                                     'kernel' % line)
            repl = '%s *const %s = emu::dynamic_shared<%s>();' % (mm.group(1), mm.group(2), mm.group(1))
        else:
            function_scope = in_function_body(code, m.start())
            parts = split_top_level(decl)
            first = re.match(r'^\s*(.+?)\s*\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)$', parts[0])
            if not first:
                raise TransformError('line %d: cannot parse __shared__%s' % (line, decl))
            base = first.group(1)
            decls = [(base, first.group(2), first.group(3))]
            for p in parts[1:]:
                d = re.match(r'^\s*([*&\s]*)([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)$', p)
                if not d:
                    raise TransformError('line %d: cannot parse declarator "%s"' % (line, p))
                base_type = re.sub(r'[*&\s]+$', '', base) if base.rstrip().endswith(('*', '&')) else base
                decls.append((base_type + ' ' + d.group(1).strip(), d.group(2), d.group(3)))
            pieces = []
            for typ, name, dims in decls:
                full = '%s%s' % (typ.strip(), dims.replace(' ', ''))
                if function_scope:
                    pieces.append('static emu::Shared<%s> emu_shared_%s; auto &%s = emu_shared_%s.use();'
                                  % (full, name, name, name))
                else:
                    pieces.append('static emu::Shared<%s> emu_shared_%s; static auto &%s = emu_shared_%s.v;'
                                  % (full, name, name, name))
            repl = ' '.join(pieces)
        out.append(src[i:head_start])
        out.append(repl)
        i = semi + 1
    out.append(src[i:])
    return ''.join(out)


def rewrite_launch_bounds(src, code):
    out, i = [], 0
    for m in re.finditer(r'\b__launch_bounds__\s*\(', code):
        open_paren = m.end() - 1
        close = match_forward(code, open_paren, '(', ')')
        args = src[open_paren + 1:close]
        params = code.find('(', close + 1)
        params_end = match_forward(code, params, '(', ')')
        body = code.find('{', params_end)
        if params < 0 or body < 0 or code[params_end + 1:body].strip() not in ('', 'const', 'noexcept'):
            raise TransformError('line %d: __launch_bounds__ on something that is not a kernel definition'
                                 % line_of(src, m.start()))
        out.append(src[i:m.start()])
        out.append('\n' * src.count('\n', m.start(), close + 1))
        out.append(src[close + 1:body + 1])
        out.append(' EMU_LAUNCH_BOUNDS(%s)' % re.sub(r'\s+', ' ', args))
        i = body + 1
    out.append(src[i:])
    return ''.join(out)


def rewrite_preprocessor(src):
    lines = src.split('\n')
    for n, line in enumerate(lines):
        inc = re.match(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
        if inc:
            header = inc.group(1)
            if header in PROVIDED_HEADERS:
                lines[n] = '// [cuda_emu: provided by shim.h] ' + line
            elif header.startswith(UNSUPPORTED_HEADERS):
                raise TransformError('line %d: #include <%s>: not supported by the emulator' % (n + 1, header))
        elif re.match(r'^\s*#\s*pragma\s+unroll\b', line):
            lines[n] = '// [cuda_emu] ' + line
    return '\n'.join(lines)


def check_unsupported(src, code):
    for m in re.finditer(r'\b[A-Za-z_]\w*\b', code):
        what = UNSUPPORTED_TOKENS.get(m.group())
        if what:
            raise TransformError('line %d: %s (%s) cannot run in the emulator'
                                 % (line_of(src, m.start()), m.group(), what))


def inline_local_headers(src, path):
    """Paste the kernel files' own .cuh headers in place: their device code (shared
    arrays, shuffles) needs the same rewriting as the .cu around it. A #line after each
    keeps the compiler's line numbers those of the .cu."""
    folder = os.path.dirname(path)

    def paste(m):
        header = os.path.join(folder, m.group(1))
        with open(header, encoding='utf-8') as f:
            body = f.read()
        after = src.count('\n', 0, m.start()) + 2
        return '#line 1 "%s"\n%s\n#line %d "%s"' % (header, body.rstrip('\n'), after, path)
    return re.sub(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+\.cuh)"[^\n]*$', paste, src, flags=re.M)


def transform(src):
    # Each step re-masks its own input: the earlier steps moved text around.
    check_unsupported(src, mask_comments_and_strings(src))
    src = rewrite_preprocessor(src)
    src = rewrite_launch_bounds(src, mask_comments_and_strings(src))
    src = rewrite_shared(src, mask_comments_and_strings(src))
    src = rewrite_launches(src, mask_comments_and_strings(src))
    return src


def main(argv):
    if len(argv) != 3:
        sys.stderr.write('usage: transform.py INPUT.cu OUTPUT.cpp\n')
        return 2
    path, dest = argv[1], argv[2]
    with open(path, encoding='utf-8') as f:
        src = f.read()
    src = inline_local_headers(src, os.path.abspath(path))
    try:
        body = transform(src)
    except TransformError as e:
        sys.stderr.write('%s: %s\n' % (path, e))
        return 1
    header = ('// Generated by tests/cuda_emu/transform.py from %s: do not edit.\n'
              '#include "shim.h"\n'
              '#line 1 "%s"\n' % (os.path.basename(path), os.path.abspath(path)))
    with open(dest, 'w', encoding='utf-8') as f:
        f.write(header + body)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
