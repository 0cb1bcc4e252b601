import { describe, expect, it } from "vitest";
import { parseGlossaryYaml } from "./glossary.ts";
import { normalize } from "./normalize.ts";

// The format of indextts/utils/front.py's load_glossary_from_yaml docstring.
const UPSTREAM_EXAMPLE = `M.2:
  en: M dot two
  zh: M 二
NVMe: N-V-M-E  # 中英文相同读法
`;

describe("glossary.yaml (IndexTTS2's term glossary)", () => {
  it("reads per-language and shared readings, and the normaliser applies them", () => {
    const glossary = parseGlossaryYaml(UPSTREAM_EXAMPLE, "glossary.yaml");
    expect(glossary).toEqual({ "M.2": { en: "M dot two", zh: "M 二" }, NVMe: "N-V-M-E" });
    expect(normalize("我的m.2 nvme硬盘", { glossary })).toBe("我的M 二 N-V-M-E硬盘");
    expect(normalize("My M.2 NVMe drive", { glossary })).toBe("My M dot two N-V-M-E drive");
  });

  it("treats an empty file as no glossary, as upstream does", () => {
    expect(parseGlossaryYaml("", "g.yaml")).toBeUndefined();
    expect(parseGlossaryYaml("# nothing yet\n", "g.yaml")).toBeUndefined();
  });

  it("refuses what upstream would fail on inside normalize, naming the entry", () => {
    expect(() => parseGlossaryYaml("- a\n- b\n", "g.yaml")).toThrow(/g.yaml must be a mapping/);
    expect(() => parseGlossaryYaml("2025: 二零二五\n", "g.yaml")).toThrow(/term "2025" must be a non-empty string/);
    // YAML 1.1, as PyYAML reads it: an unquoted ON is a boolean.
    expect(() => parseGlossaryYaml("ON: 开\n", "g.yaml")).toThrow(/term "true" must be a non-empty string/);
    expect(() => parseGlossaryYaml("NVMe: 5\n", "g.yaml")).toThrow(/reading of "NVMe" must be a string, got number/);
    expect(() => parseGlossaryYaml("NVMe:\n  zh:\n", "g.yaml")).toThrow(/"zh" reading of "NVMe" must be a string/);
    expect(() => parseGlossaryYaml("NVMe:\n  fr: x\n", "g.yaml")).toThrow(/only "en" and "zh"/);
    expect(() => parseGlossaryYaml("a: 'x\\1'\n", "g.yaml")).toThrow(/backslash/);
    expect(() => parseGlossaryYaml("a: [1\n", "g.yaml")).toThrow(/g.yaml is not valid YAML/);
    expect(() => parseGlossaryYaml("a: x\na: y\n", "g.yaml")).toThrow(/not valid YAML/);
  });
});
