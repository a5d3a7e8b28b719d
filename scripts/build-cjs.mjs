#!/usr/bin/env node
// The CommonJS half of a package's dual build, run from the package folder after `tsc` has
// written the ESM build and its declarations to dist/.
//
// Why not a second `tsc -p` with `module: commonjs`: every package imports its siblings by
// subpath (`@tiercache/core/http`), which only `node16`/`nodenext` resolution understands, and
// those modes pick the output format from package.json's `"type": "module"`: tsc cannot emit
// CommonJS from these sources. The sources are written for `isolatedModules`, so transpiling
// file by file is exact; type checking stays with the ESM build.
//
// dist/cjs/ gets:
// - each src/**/*.ts transpiled to CommonJS (`import.meta.url` becomes the file's own URL,
//   the one ESM-only construct the sources use);
// - a copy of every declaration file of the ESM build (the same types, read as CommonJS
//   declarations because of the next file);
// - package.json `{ "type": "commonjs" }`, which makes Node and TypeScript treat the folder
//   as CommonJS.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import ts from 'typescript'

const packageDir = process.cwd()
const srcDir = join(packageDir, 'src')
const distDir = join(packageDir, 'dist')
const cjsDir = join(distDir, 'cjs')

/** `import.meta.url` → the CommonJS module's own file URL. */
function importMetaUrlToFileUrl(context) {
  const { factory } = context
  const visit = (node) => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'url' &&
      ts.isMetaProperty(node.expression) &&
      node.expression.keywordToken === ts.SyntaxKind.ImportKeyword
    ) {
      // require('node:url').pathToFileURL(__filename).href
      const pathToFileURL = factory.createPropertyAccessExpression(
        factory.createCallExpression(factory.createIdentifier('require'), undefined, [factory.createStringLiteral('node:url')]),
        'pathToFileURL',
      )
      return factory.createPropertyAccessExpression(
        factory.createCallExpression(pathToFileURL, undefined, [factory.createIdentifier('__filename')]),
        'href',
      )
    }
    return ts.visitEachChild(node, visit, context)
  }
  return (file) => ts.visitNode(file, visit)
}

function walk(dir, keep) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && keep(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
}

// A package whose build uses legacy decorators (Nest's) needs them in the CommonJS half too.
const buildOptions = JSON.parse(readFileSync(join(packageDir, 'tsconfig.build.json'), 'utf8')).compilerOptions ?? {}
const decoratorOptions = {
  experimentalDecorators: buildOptions.experimentalDecorators === true,
  emitDecoratorMetadata: buildOptions.emitDecoratorMetadata === true,
}

rmSync(cjsDir, { recursive: true, force: true })

for (const file of walk(srcDir, (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))) {
  const source = readFileSync(file, 'utf8')
  const { outputText, diagnostics } = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      isolatedModules: true,
      verbatimModuleSyntax: false,
      ...decoratorOptions,
    },
    transformers: { before: [importMetaUrlToFileUrl] },
  })
  if (diagnostics?.length) {
    console.error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost({})))
    process.exit(1)
  }
  const target = join(cjsDir, relative(srcDir, file)).replace(/\.ts$/, '.js')
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, outputText)
}

for (const file of walk(distDir, (name) => name.endsWith('.d.ts'))) {
  if (file.startsWith(cjsDir)) continue
  const target = join(cjsDir, relative(distDir, file))
  mkdirSync(dirname(target), { recursive: true })
  // The ESM build's declaration maps point at ../src from dist/; these copies carry none.
  writeFileSync(target, readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'))
}

writeFileSync(join(cjsDir, 'package.json'), '{ "type": "commonjs" }\n')
