"""e2e_official.py, part 2: the rest of the random official checkpoints, and the exporter run on them.

- `export_s2mel_stage`: random official s2mel (`MyModel`) and semantic codec (`RepCodec`), exported by the exporter's
  own s2mel stage;
- `export_rest_stages`: random official BigVGAN (release architecture), CAMPPlus, feat1/feat2, the exporter's
  vocoder, voices and emotions stages and its manifest;
- `stub_voice`: the voice, with a labelled stand-in audio front end (no w2v-BERT weights or torchaudio here).
"""

from __future__ import annotations

import json
import os
import shutil

from e2e_build import AttrDict

def export_s2mel_stage(args, ckpt: str, model: str) -> None:
    """Random official s2mel (`MyModel`, as s2mel.pth) and MaskGCT semantic codec (`RepCodec`, safetensors), loaded
    back and exported by the exporter's own s2mel stage."""
    import safetensors.torch
    import torch
    import yaml
    from indextts.s2mel.modules.commons import MyModel
    from indextts.utils.maskgct_utils import build_semantic_codec

    from official import AuxPaths, Official
    from onnx_io import ExportOptions
    from s2mel_export import export_s2mel

    with open(os.path.join(ckpt, "config.yaml"), encoding="utf-8") as f:
        cfg = AttrDict(yaml.safe_load(f))
    torch.manual_seed(args.seed + 1)
    s2mel = MyModel(cfg.s2mel, use_gpt_latent=True)
    torch.save({"net": {k: m.state_dict() for k, m in s2mel.models.items()}}, os.path.join(ckpt, cfg.s2mel_checkpoint))
    codec_path = os.path.join(ckpt, "semantic_codec_model.safetensors")
    safetensors.torch.save_model(build_semantic_codec(cfg.semantic_codec), codec_path)
    print(f">> random official s2mel ({sum(p.numel() for p in s2mel.parameters()) / 1e6:.1f} M parameters) and "
          f"semantic codec -> {ckpt}")
    off = Official(checkpoints=ckpt, device="cpu", aux=AuxPaths(semantic_codec=codec_path))
    off.prepare_for_export()
    print(">> exporter: export_s2mel")
    export_s2mel(off.s2mel, off.semantic_codec, int(cfg.semantic_codec.codebook_size), ExportOptions(out_dir=model),
                 torch.device("cpu"))


# nvidia/bigvgan_v2_22khz_80band_256x config.json (cfg.vocoder.name in the release config.yaml), the fields BigVGAN
# reads, written out here because nothing can be downloaded: the release vocoder's architecture, random weights.
BIGVGAN_22K_80BAND_256X = {
    "resblock": "1", "upsample_rates": [4, 4, 2, 2, 2, 2], "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4],
    "upsample_initial_channel": 1536, "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "use_tanh_at_final": False,
    "use_bias_at_final": False, "activation": "snakebeta", "snake_logscale": True, "num_mels": 80, "n_fft": 1024,
    "hop_size": 256, "win_size": 1024, "sampling_rate": 22050, "fmin": 0, "fmax": None,
}


def export_rest_stages(args, ckpt: str, model: str, spk):
    """--node: random official BigVGAN (local from_pretrained layout), CAMPPlus and feat1/feat2, loaded back through
    official.Official, and the exporter's vocoder, voices and emotions stages plus its manifest. The voice's front end
    is a labelled stand-in (see `stub_voice`): w2v-BERT and torchaudio are not here."""
    import torch
    import yaml
    from indextts.s2mel.modules.bigvgan.bigvgan import BigVGAN
    from indextts.s2mel.modules.bigvgan.env import AttrDict as BigVganConfig
    from indextts.s2mel.modules.campplus.DTDNN import CAMPPlus

    import manifest as mf
    from emotions import load_emotion_matrices, write_emotions
    from official import AuxPaths, Official
    from onnx_io import ExportOptions
    from vocoder_export import export_vocoder
    from voices import write_voices

    import inspect

    if args.compat_shims and "proxies" in inspect.signature(BigVGAN._from_pretrained).parameters:
        # huggingface_hub 1.x (with transformers 5.x) no longer passes `proxies`/`resume_download` to the mixin's
        # _from_pretrained, whose 2024 signature requires them; the local-directory path reads neither.
        original = BigVGAN._from_pretrained.__func__

        def from_pretrained_compat(cls, *, proxies=None, resume_download=False, **kwargs):
            return original(cls, proxies=proxies, resume_download=resume_download, **kwargs)

        BigVGAN._from_pretrained = classmethod(from_pretrained_compat)
        print(">> compatibility shim: BigVGAN._from_pretrained defaults proxies=None, resume_download=False "
              "(huggingface_hub 1.x)")
    with open(os.path.join(ckpt, "config.yaml"), encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    torch.manual_seed(args.seed + 2)
    bigvgan_dir = os.path.join(ckpt, "bigvgan")
    os.makedirs(bigvgan_dir, exist_ok=True)
    with open(os.path.join(bigvgan_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(BIGVGAN_22K_80BAND_256X, f)
    vocoder = BigVGAN(BigVganConfig(BIGVGAN_22K_80BAND_256X), use_cuda_kernel=False)
    torch.save({"generator": vocoder.state_dict()}, os.path.join(bigvgan_dir, "bigvgan_generator.pt"))
    campplus_path = os.path.join(ckpt, "campplus_cn_common.bin")
    torch.save(CAMPPlus(feat_dim=80, embedding_size=192).state_dict(), campplus_path)
    rows = sum(int(n) for n in cfg["emo_num"])
    torch.save(torch.randn(rows, int(cfg["s2mel"]["style_encoder"]["dim"])), os.path.join(ckpt, cfg["spk_matrix"]))
    torch.save(torch.randn(rows, int(cfg["gpt"]["model_dim"])), os.path.join(ckpt, cfg["emo_matrix"]))
    print(f">> random official BigVGAN ({sum(p.numel() for p in vocoder.parameters()) / 1e6:.1f} M parameters, "
          f"release architecture), CAMPPlus, {cfg['spk_matrix']} / {cfg['emo_matrix']} -> {ckpt}")

    off = Official(checkpoints=ckpt, device="cpu", aux=AuxPaths(
        semantic_codec=os.path.join(ckpt, "semantic_codec_model.safetensors"), campplus=campplus_path,
        bigvgan=bigvgan_dir))
    off.prepare_for_export()
    if (args.reuse or args.reuse_vocoder) and os.path.exists(os.path.join(model, "vocoder.onnx")):
        print(">> --reuse: vocoder.onnx of the earlier run")
    else:
        print(">> exporter: export_vocoder")
        export_vocoder(off.bigvgan, ExportOptions(out_dir=model), torch.device("cpu"))
    print(">> voices (STAND-IN front end, see stub_voice) + exporter: write_voices")
    voice, official_voice = stub_voice(off, spk)
    write_voices(os.path.join(model, mf.FILES["voices"]), [voice])
    print(">> exporter: emotions")
    spk_m, emo_m = load_emotion_matrices(ckpt, cfg)
    write_emotions(os.path.join(model, mf.FILES["emotions"]), spk_m, emo_m, list(cfg["emo_num"]))
    shutil.copyfile(os.path.join(ckpt, cfg["dataset"]["bpe_model"]), os.path.join(model, mf.FILES["bpe"]))
    manifest = mf.build_manifest(cfg, [mf.VoiceEntry(0, voice.name, voice.description, voice.ref_frames)],
                                 "e2e-random-official")
    mf.write_manifest(os.path.join(model, "manifest.json"), manifest)
    print(f">> model directory {model} (manifest: size {manifest['size']}, RANDOM weights)")
    return official_voice


def stub_voice(off, spk):
    """voices.extract_voice after its audio front end, with stand-ins where this machine lacks the parts:
    - spk_cond_emb / emo_cond_emb: `spk`, random (1, T, 1024) in place of normalised w2v-BERT hidden_states[17] (the
      same tensor the official generate gets below), so the GPT conditioning is the official code's;
    - S_ref: the official semantic codec's `quantize(spk)`, prompt_condition: the official length_regulator;
    - ref_mel: the official s2mel `mel_spectrogram` of a fixed random waveform as long as `spk` (50 Hz frames);
    - style: the official CAMPPlus (random weights) over that mel's frames, mean-subtracted, in place of Kaldi fbank
      (torchaudio.compliance.kaldi, not installable here).
    The speaker_latent and emo_vec, the only voice tensors the codes depend on, are exactly the official ones.
    Returns the voice and the tensors infer_v2.py caches for it (style, prompt_condition, ref_mel), so the official
    infer runs on the same voice."""
    import torch

    from voices import VoiceTensors, _check, _f32

    gen = torch.Generator().manual_seed(7)
    wave = 0.1 * torch.randn(1, spk.shape[1] * 22050 // 50, generator=gen)
    lengths = torch.tensor([spk.shape[1]])
    _, s_ref = off.semantic_codec.quantize(spk)
    ref_mel = off.mel_fn(wave)  # (1, 80, T_ref)
    feats = ref_mel[0].transpose(0, 1)
    style = off.campplus((feats - feats.mean(dim=0, keepdim=True)).unsqueeze(0))
    ref_frames = torch.LongTensor([ref_mel.size(2)])
    prompt_condition = off.s2mel.models["length_regulator"](s_ref, ylens=ref_frames, n_quantizers=3, f0=None)[0]
    gpt = off.gpt
    speaker_latent = gpt.get_conditioning(spk.transpose(1, 2), lengths)
    emo_vec = gpt.merge_emovec(spk, spk, lengths, lengths, alpha=1.0)
    voice = VoiceTensors(name="e2e", description="RANDOM stand-in voice (e2e_official.py)",
                         speaker_latent=_f32(speaker_latent[0]), emo_vec=_f32(emo_vec[0]), style=_f32(style[0]),
                         prompt_condition=_f32(prompt_condition[0]), ref_mel=_f32(ref_mel[0]))
    _check(voice, off.cfg_dict)
    return voice, {"style": style, "prompt_condition": prompt_condition, "ref_mel": ref_mel}


