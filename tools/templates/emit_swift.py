import json, subprocess
lines = subprocess.run(['/root/.cache/lambda-llm/venv/bin/python','render.py'],capture_output=True,text=True,check=True).stdout.splitlines()
def sw(s):
    return '"' + s.replace('\\','\\\\').replace('"','\\"').replace('\n','\\n').replace('\t','\\t') + '"'
fam_map = {'smollm2': '.smolLM2', 'chatml': '.chatML', 'llama3': '.llama3', 'llama31': '.llama31', 'llama2': '.llama2', 'mistral': '.mistral', 'zephyr': '.zephyr'}
rows = []
for l in lines:
    fam, conv, agp, js = l.split(' ', 3)
    s = json.loads(js)
    rows.append(f'    RenderCase({fam_map[fam]}, .{conv}, generationPrompt: {agp.lower()},\n               {sw(s)}),')
print('\n'.join(rows))
