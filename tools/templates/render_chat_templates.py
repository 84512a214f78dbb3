"""Renders the official chat templates with jinja2 (Hugging Face's settings) to produce
the expected strings in Tests/GenerationTests/ChatTemplateTests.swift. Test tooling only.
Needs the asset cache (scripts/setup-assets) and jinja2; run from this folder."""
import json, os, tarfile, gguf
CACHE = os.environ.get("LAMBDA_LLM_CACHE", os.path.expanduser("~/.cache/lambda-llm"))
from jinja2.sandbox import ImmutableSandboxedEnvironment
# Hugging Face transformers renders chat templates with these settings.
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
def raise_exception(m): raise Exception(m)
env.globals['raise_exception'] = raise_exception
r = gguf.GGUFReader(os.path.join(CACHE, 'models/SmolLM2-135M-Instruct.Q4_1.gguf'))
f = r.fields['tokenizer.chat_template']
T = {}
T['smollm2'] = bytes(f.parts[f.data[0]]).decode()
T['chatml'] = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
# meta-llama/Meta-Llama-3-8B-Instruct
T['llama3'] = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
T['llama31'] = tarfile.open(os.path.join(CACHE, 'sdist/llama_cpp_python-0.3.36.tar.gz')).extractfile('llama_cpp_python-0.3.36/vendor/llama.cpp/models/templates/meta-llama-Llama-3.1-8B-Instruct.jinja').read().decode()
# meta-llama/Llama-2-7b-chat-hf
T['llama2'] = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
# mistralai/Mistral-7B-Instruct-v0.1 / v0.2
T['mistral'] = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
# HuggingFaceH4/zephyr-7b-beta, TinyLlama/TinyLlama-1.1B-Chat-v1.0
T['zephyr'] = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
json.dump(T, open('templates.json','w'))
S = dict(role='system', content='You are terse.')
U1 = dict(role='user', content='Hi there! ')
A1 = dict(role='assistant', content=' Hello, how can I help?\n')
U2 = dict(role='user', content='Café \u00e9t\u00e9 \u2014 \U0001F600?')
convs = {'single': [U1], 'system': [S, U1], 'multi': [S, U1, A1, U2], 'nosys_multi': [U1, A1, U2]}
out = []
for fam, tpl in T.items():
    t = env.from_string(tpl)
    for cname, msgs in convs.items():
        for agp in (True, False):
            m = msgs
            if fam == 'mistral' and m[0]['role'] == 'system':
                # Mistral's template rejects system; we merge it into the first user turn.
                m = [dict(role='user', content=m[0]['content'] + '\n\n' + m[1]['content'])] + m[2:]
            s = t.render(messages=m, add_generation_prompt=agp, bos_token='<BOS>', eos_token='</s>')
            out.append((fam, cname, agp, s))
for fam, c, a, s in out:
    print(fam, c, a, json.dumps(s, ensure_ascii=False))
