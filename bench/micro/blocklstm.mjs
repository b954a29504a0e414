process.env.TF_CPP_MIN_LOG_LEVEL='2';
const tfn = await import('@tensorflow/tfjs-node');
const tf = tfn.default ?? tfn;
const { createRequire } = await import('node:module');
const require = createRequire(import.meta.url);
const { Int64Scalar } = require('@tensorflow/tfjs-node/dist/int64_tensors.js');
const { createTensorsTypeOpAttr } = require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend.js');
const be = tf.backend(); const bd = be.binding;
const T=10,B=4,inD=8,u=16;
const x = tf.randomNormal([T,B,inD]); const K = tf.randomNormal([inD,4*u]).mul(0.3); const U = tf.randomNormal([u,4*u]).mul(0.3); const b = tf.randomNormal([4*u]).mul(0.3);
// reference: sigmoid LSTM, keras gate order i,f,c,o
let h=tf.zeros([B,u]), c=tf.zeros([B,u]); const hs=[];
for (let t=0;t<T;t++){ const z=tf.matMul(x.gather(t),K).add(tf.matMul(h,U)).add(b); const [i,f,g,o]=tf.split(z,4,1);
 c = tf.sigmoid(f).mul(c).add(tf.sigmoid(i).mul(tf.tanh(g))); h = tf.sigmoid(o).mul(tf.tanh(c)); hs.push(h);}
const ref = tf.stack(hs);
function block(order){
 const [i,f,g,o]=[0,1,2,3].map(k=>tf.concat([K,U],0).slice([0,k*u],[inD+u,u]));
 const [bi,bf,bg,bo]=[0,1,2,3].map(k=>b.slice([k*u],[u]));
 const m={i,f,c:g,o}, mb={i:bi,f:bf,c:bg,o:bo};
 const W=tf.concat(order.split('').map(k=>m[k]),1), bb=tf.concat(order.split('').map(k=>mb[k]),0);
 const z=tf.zeros([B,u]), p=tf.zeros([u]);
 const attrs=[createTensorsTypeOpAttr('T','float32'),{name:'cell_clip',type:bd.TF_ATTR_FLOAT,value:0},{name:'use_peephole',type:bd.TF_ATTR_BOOL,value:false}];
 const outs = be.executeMultipleOutputs('BlockLSTMV2', attrs, [new Int64Scalar(T), x, z, z, W, p, p, p, bb], 7);
 return outs[6];
}
for (const order of ['ifco','icfo']) { try { const hb=block(order); console.log(order, 'max diff', tf.max(tf.abs(hb.sub(ref))).dataSync()[0]); } catch(e){ console.log(order, 'ERR', e.message.split('\n')[0]); } }
