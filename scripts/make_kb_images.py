"""Draw the knowledge base's bundled figures into resources/kb/ (run by hand; the PNGs are
committed). Schematic line drawings: a hose fitted with its two clamps, and an IC-card
meter's display showing fault E02."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from fieldapp.resources import resource

OUT = resource("kb")
FONT = str(resource("fonts", "wqy-microhei.ttc"))
INK, PIPE, HOSE, CLAMP, RED = "#1f2933", "#9aa5b1", "#f0a500", "#52606d", "#c62828"


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size)


def hose_clamp(path: Path) -> None:
    img = Image.new("RGB", (1040, 420), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([40, 180, 300, 240], fill=PIPE)  # the valve's nozzle
    d.rectangle([740, 180, 1000, 240], fill=PIPE)  # the stove's inlet
    d.rounded_rectangle([220, 165, 820, 255], radius=40, fill=HOSE)  # the hose over both
    for x in (250, 770):  # a clamp at each end, on the nozzle's barbs
        d.rectangle([x - 18, 150, x + 18, 270], fill=CLAMP)
        d.ellipse([x - 10, 126, x + 10, 146], outline=INK, width=4)
    d.text((30, 270), "灶前阀接口", font=font(30), fill=INK)
    d.text((760, 270), "灶具进气口", font=font(30), fill=INK)
    d.text((420, 110), "燃气专用软管", font=font(30), fill=INK)
    for x, text in ((250, "卡箍"), (770, "卡箍")):
        d.line([x, 120, x, 70], fill=RED, width=4)
        d.text((x - 30, 26), text, font=font(30), fill=RED)
    d.text((300, 330), "两端卡箍紧固，插入深度 ≥ 20 mm，长度 ≤ 2 m", font=font(30), fill=INK)
    img.save(path, optimize=True)


def ic_meter(path: Path) -> None:
    img = Image.new("RGB", (1040, 560), "white")
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([200, 30, 840, 530], radius=30, outline=INK, width=6)  # the meter
    d.rectangle([300, 90, 740, 250], fill="#c8d6a0", outline=INK, width=4)  # the display
    d.text((360, 105), "E02", font=font(110), fill=INK)
    d.text((600, 200), "阀关", font=font(34), fill=INK)
    d.rectangle([380, 330, 660, 370], outline=INK, width=4)  # the card slot
    d.text((440, 380), "IC卡插槽", font=font(30), fill=INK)
    d.line([740, 170, 880, 170], fill=RED, width=4)
    d.text((860, 120), "故障代码", font=font(30), fill=RED)
    d.text((250, 460), "E02：阀门故障。插维修卡做开关阀测试，仍失败则换表", font=font(28),
           fill=INK)
    img.save(path, optimize=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    hose_clamp(OUT / "hose_clamp.png")
    ic_meter(OUT / "ic_meter_e02.png")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
