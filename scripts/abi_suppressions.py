#!/usr/bin/env python3
"""Write the abidiff suppressions that let versioned structs grow at the end.

Usage: abi_suppressions.py OLD.abi NEW.abi > OUT.abignore

DESIGN.md convention 4: a struct that starts with a `version` field (options, info and
result structs) is passed by pointer and only ever has fields appended; the library reads
and writes only the fields of the version the caller names, so appending is compatible.
libabigail's `has_data_member_inserted_at = end` suppression would also hide any other
change made to the same struct along with the append (abidiff 2.2 suppresses the whole
type diff), so a struct is suppressed only when this script has proved the change is an
append: every member of OLD is in NEW, in order, with the same name, offset and type id.
The structs are those versioned in OLD, the ABI callers were built against.
"""
import sys
import xml.etree.ElementTree as ET


def versioned_structs(path):
    """{name: [(member, offset, type id), ...]} of the defined structs whose first member
    is `version`. A struct appears once per translation unit; all copies must agree."""
    found = {}
    for decl in ET.parse(path).getroot().iter('class-decl'):
        if decl.get('is-struct') != 'yes' or decl.get('is-declaration-only') == 'yes':
            continue
        members = []
        for dm in decl.findall('data-member'):
            var = dm.find('var-decl')
            members.append((var.get('name'), dm.get('layout-offset-in-bits'), var.get('type-id')))
        if not members or members[0][0] != 'version':
            continue
        name = decl.get('name')
        if found.setdefault(name, members) != members:
            found[name] = None  # copies disagree: not provably an append
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    old = versioned_structs(sys.argv[1])
    new = versioned_structs(sys.argv[2])
    for name in sorted(old):
        before, after = old[name], new.get(name)
        if before is None or after is None or len(after) <= len(before):
            continue
        if after[:len(before)] != before:
            continue
        print('[suppress_type]\n  type_kind = struct\n  name = %s\n'
              '  has_data_member_inserted_at = end\n  has_size_change = yes\n' % name)


if __name__ == '__main__':
    main()
